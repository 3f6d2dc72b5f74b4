"""Patient survey files: the tools' formats (``formats``), opening a file and reading its layout
(``reading``), the import and its undo (``importing``), the upload pages' jobs (``services``),
their pages and forms (``views``, ``forms``, ``urls``)."""
