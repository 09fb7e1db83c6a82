"""Reading the core system's CSV exports: encodings, header aliases, values, rejects."""
