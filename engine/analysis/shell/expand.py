"""The walker's half that expands words: the pieces of a word, variables known so far,
word splitting and globs. A part of _Walker, not used alone."""

from __future__ import annotations

from tree_sitter import Node

from engine.analysis.shell.expansion import (
    _GLOB_CHARS,
    _NAME,
    _SHIELD,
    _UNSHIELD,
    _Piece,
    _unescape_double_quoted,
    _unescape_unquoted,
    brace_expand,
    decode_ansi_c,
)
from engine.analysis.shell.words import Word


class _Expanding:
    """How _Walker turns tree-sitter word nodes into Words."""

    def _expand(self, *nodes: Node, split: bool = True) -> list[Word]:
        pieces = [piece for node in nodes for piece in self._pieces(node, quoted=False)]
        pieces = self._late_variables(pieces)
        fields: list[list[_Piece]] = [[]]
        separators = None
        for piece in pieces:
            if piece.splittable and split:
                separators = separators or self._field_separators()
            if piece.splittable and separators and separators.search(piece.text):
                parts = separators.split(piece.text)
                for position, part in enumerate(parts):
                    if position > 0:
                        fields.append([])
                    if part:
                        fields[-1].append(_Piece(part, quoted=False, dynamic=piece.dynamic))
            else:
                fields[-1].append(piece)
        words: list[Word] = []
        for parts in fields:
            if not parts:
                continue
            value = "".join(p.text for p in parts)
            dynamic = any(p.dynamic for p in parts)
            unquoted = [p.text for p in parts if not p.quoted and not p.dynamic]
            glob = any(_GLOB_CHARS.search(text) for text in unquoted)
            braces = (
                "".join(p.text for p in parts if not p.quoted)
                if not dynamic and "{" in value and "," in value
                else ""
            )
            if "{" in braces and "," in braces:
                # Quoted text takes no part in brace expansion: `{rm,'-rf'}` is `rm -rf`.
                shielded = "".join(p.text.translate(_SHIELD) if p.quoted else p.text for p in parts)
                words.extend(
                    Word(v.translate(_UNSHIELD), glob=glob) for v in brace_expand(shielded)
                )
            else:
                words.append(Word(value, glob=glob, dynamic=dynamic))
        return words

    def _late_variables(self, pieces: list[_Piece]) -> list[_Piece]:
        """tree-sitter splits `-rf$IFS/` into `-rf$` and `IFS/`; bash reads `$IFS` there."""
        fixed: list[_Piece] = []
        index = 0
        while index < len(pieces):
            piece = pieces[index]
            following = pieces[index + 1] if index + 1 < len(pieces) else None
            name = (
                _NAME.match(following.text)
                if following
                and not following.quoted
                and not following.dynamic
                and not piece.quoted
                and piece.text.endswith("$")
                and not piece.dynamic
                else None
            )
            if name is None or following is None:
                fixed.append(piece)
                index += 1
                continue
            if piece.text[:-1]:
                fixed.append(_Piece(piece.text[:-1], quoted=False))
            variable = name.group(0)
            value = self.variables.get(variable)
            if value is None:
                fixed.append(_Piece("$" + variable, quoted=False, dynamic=True))
            else:
                fixed.append(_Piece(value, quoted=False, splittable=True))
            rest = following.text[len(variable) :]
            if rest:
                fixed.append(_Piece(rest, quoted=False))
            index += 2
        return fixed

    def _pieces(self, node: Node, quoted: bool) -> list[_Piece]:
        kind = node.type
        text = node.text.decode("utf-8", "replace")
        if kind in {"word", "number", "variable_name", "regex", "extglob_pattern"}:
            return [_Piece(text if quoted else _unescape_unquoted(text), quoted)]
        if kind == "raw_string":
            return [_Piece(text[1:-1], True)]
        if kind == "ansi_c_string":
            return [_Piece(decode_ansi_c(text[2:-1]), True)]
        if kind in {"string", "translated_string"}:
            pieces: list[_Piece] = []
            for child in node.named_children:
                if child.type == "string_content":
                    raw = child.text.decode("utf-8", "replace")
                    pieces.append(_Piece(_unescape_double_quoted(raw), True))
                else:
                    pieces.extend(self._pieces(child, quoted=True))
            return pieces or [_Piece("", True)]
        if kind == "concatenation":
            return [p for child in node.children for p in self._pieces(child, quoted)]
        if kind in {"simple_expansion", "expansion"}:
            return [self._variable(node, text, quoted)]
        if kind == "command_substitution":
            output = self._substitution(node)
            if output is None:
                return [_Piece(text, quoted, dynamic=True)]
            return [_Piece(output.rstrip("\n"), quoted, splittable=not quoted)]
        if kind == "process_substitution":
            self._substitution(node)
            return [_Piece(text, quoted, dynamic=True)]
        if kind == "arithmetic_expansion":
            self._evaluation_context(node)
        if kind == "string_content":
            return [_Piece(_unescape_double_quoted(text), True)]
        # arithmetic, arrays, brace ranges…: walk for nested commands, value unknown.
        for child in node.named_children:
            self.walk(child)
        return [_Piece(text, quoted, dynamic=kind not in {"$"})]

    def _variable(self, node: Node, text: str, quoted: bool) -> _Piece:
        names = [
            c for c in node.named_children if c.type in {"variable_name", "special_variable_name"}
        ]
        name = names[0].text.decode("utf-8", "replace") if names else ""
        operators = node.type == "expansion" and len(node.children) > 3
        if name == "IFS":
            ifs = self.variables.get("IFS")
            return _Piece(ifs or "", quoted, dynamic=ifs is None, splittable=not quoted)
        if operators and text.endswith("@P}"):
            self._prompt_expansion(name, text)
            return _Piece(text, quoted, dynamic=True)
        if operators and text.endswith("@E}") and self.variables.get(name) is not None:
            value = decode_ansi_c(self.variables[name] or "")  # `${x@E}`: escapes decoded
            return _Piece(value, quoted, splittable=not quoted)
        if node.type == "expansion" and ("[" in text or ":" in text):
            # `${a[x]}`, `${s:x}`: subscripts and offsets are arithmetic on x's value
            self._names_in_arithmetic(text[2:-1].removeprefix(name))
        value = self.variables.get(name)
        if value is None or (operators and name not in self.variables):
            for child in node.named_children:
                if child.type in {"command_substitution", "process_substitution"}:
                    self._substitution(child)
            return _Piece(text, quoted, dynamic=True)
        if operators:
            return _Piece(text, quoted, dynamic=True)
        return _Piece(value, quoted, splittable=not quoted)
