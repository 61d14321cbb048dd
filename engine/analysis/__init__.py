"""What the text of a call says, before anything is judged: pure and cached by text.
Modules here never touch the filesystem and never decide allow or deny."""
