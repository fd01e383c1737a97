"""The question bank: the built-in files, owners, imports and exports in other formats, reports of faulty questions."""
