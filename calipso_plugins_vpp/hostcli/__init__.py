"""Parsers and renderers of ``vppctl`` output, in the formats real VPP prints.

Each module reads one command (``parse_*``) and writes it back (``render_*``) so that the
lab's hosts answer with the same layout a real host does; malformed output is a
``calipso_core.errors.ParseError`` naming the command and the line.
"""
