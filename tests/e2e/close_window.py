"""Closes an X window as a window manager's close button does: a WM_DELETE_WINDOW client message
(the app gets a close request and decides; `xdotool windowclose` would destroy the window under
it). Under Xvfb there is no window manager to ask. Run with Debian's python3 (python3-xlib).
Usage: close_window.py WINDOW_ID..."""
import sys

from Xlib import X, display, protocol

d = display.Display()
protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
for wid in sys.argv[1:]:
    w = d.create_resource_object("window", int(wid))
    ev = protocol.event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
    w.send_event(ev, event_mask=X.NoEventMask)
d.flush()
d.close()
