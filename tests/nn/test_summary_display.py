"""summary() prints its table once: the returned text is not echoed again by a shell."""

import gradkit as gk


def test_summary_prints_once_and_returns_the_table_as_a_str(capsys):
    m = gk.nn.Sequential(gk.nn.Linear(4, 3), gk.nn.ReLU(), gk.nn.Linear(3, 2))
    text = m.summary()
    printed = capsys.readouterr().out
    assert printed.strip() == str(text).strip() and "Linear" in printed
    assert isinstance(text, str) and "Param #" in text
    assert "Param #" not in repr(text)  # a REPL echo is one line, not the table again
    assert text._ipython_display_() is None  # Jupyter shows nothing more


def test_print_fn_none_prints_nothing(capsys):
    text = gk.nn.Sequential(gk.nn.Linear(2, 2)).summary(print_fn=None)
    assert capsys.readouterr().out == "" and "Linear" in text
