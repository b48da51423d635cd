#!/usr/bin/python3
"""A GTK3 window at X,Y whose button is an XDND drag source of `text/uri-list` for FILES, so a
test can play a real OS file drag onto another window with xdotool. Needs Debian's python3 with
python3-gi and gir1.2-gtk-3.0. Prints "ready" once shown. Usage: drag_source.py X Y FILE..."""
import pathlib
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, Gtk  # noqa: E402


def main():
    x, y = int(sys.argv[1]), int(sys.argv[2])
    uris = [pathlib.Path(p).resolve().as_uri() for p in sys.argv[3:]]
    window = Gtk.Window(title="tuatara-e2e-drag-source")
    window.set_default_size(200, 100)
    window.move(x, y)
    button = Gtk.Button(label="drag these files")
    button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    button.drag_source_add_uri_targets()
    button.connect("drag-data-get", lambda _w, _ctx, data, _info, _time: data.set_uris(uris))
    window.add(button)
    window.connect("destroy", Gtk.main_quit)
    window.show_all()
    print("ready", flush=True)
    Gtk.main()


if __name__ == "__main__":
    main()
