"""The rules stage: one module per policy section or built-in detector, each a function from
facts to findings. No rule parses text or builds facts; pipeline.py runs them in order."""
