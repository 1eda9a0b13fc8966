"""The promo rule language: parser, checker, compiler, formatter."""
