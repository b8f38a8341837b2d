"""Build a bilingual, multi-framework deep-learning book.

The stages run in one direction, each in its own module:

    chapters/*.md --read--> Chapter --check--> Chapter --notebooks--> notebooks/
        --execute--> executed notebooks --site--> _build/html/{en,pt}

`settings` reads the book's configuration, `cli` is the thin entry point the Makefile calls.
"""
