"""The facts stage: what one tool call will really do on this machine (model.py), built from
the parsed text and the disk (build.py, files.py). Nothing here judges."""
