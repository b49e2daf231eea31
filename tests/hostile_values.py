"""A corpus of template values that oned's template lexer once mangled or let break out (issue 10).

Each must be stored verbatim, alone (no attribute appears that was not declared) and read back equal, so a
second run writes nothing. tests/oned/template.py follows src/parsers/template_parser.l and template_syntax.y.
"""

HOSTILE_VALUES = [
    'say "hi"', 'a ] b [ c', "x]", "C:\\dir\\", "a\\b\\\\c", 'a\\"b', '\\"', "line1\nline2\n  indented",
    "$NAME ${X} $UNAME", "École Réunion — 974 ✓ 日本", "a=b, c=d", "# not a comment", "tab\there", "",
    "x" * 20000, 'evil\\"\nVN_MAD="ovswitch', '"', '""', "\\",
    " leading blank", "trailing blank ", "trailing new line\n", "   ",
]
