"""A tray host for the end-to-end run's private D-Bus session, as a desktop panel is one: owns
org.kde.StatusNotifierWatcher and writes each item that registers (its bus name and path) as a
JSON line to the file given; prints "ready" once it owns the name. `click RECORD LABEL` clicks
the menu entry of that label of the last item registered, through its com.canonical.dbusmenu
menu, as a panel does. Run with Debian's python3 (GLib's Gio through python3-gi).
Usage: tray_host.py RECORD | tray_host.py click RECORD LABEL"""
import json
import sys

from gi.repository import Gio, GLib

NAME, PATH = "org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher"
XML = """<node><interface name="org.kde.StatusNotifierWatcher">
  <method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
  <method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
  <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
  <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
  <property name="ProtocolVersion" type="i" access="read"/>
  <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
  <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
  <signal name="StatusNotifierHostRegistered"/>
</interface></node>"""


def serve(record_path):
    record = open(record_path, "a", buffering=1)
    items = []

    def call(conn, sender, path, iface, method, params, invocation):
        if method == "RegisterStatusNotifierItem":
            (service,) = params.unpack()
            bus, item = (sender, service) if service.startswith("/") else (service, "/StatusNotifierItem")
            items.append(f"{bus}{item}")
            record.write(json.dumps({"bus": bus, "path": item}) + "\n")
            conn.emit_signal(None, PATH, NAME, "StatusNotifierItemRegistered", GLib.Variant("(s)", (items[-1],)))
        invocation.return_value(None)

    def prop(conn, sender, path, iface, name):
        return {"RegisteredStatusNotifierItems": GLib.Variant("as", items),
                "IsStatusNotifierHostRegistered": GLib.Variant("b", True),
                "ProtocolVersion": GLib.Variant("i", 0)}[name]

    def bus_acquired(conn, name):
        conn.register_object(PATH, Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], call, prop, None)

    Gio.bus_own_name(Gio.BusType.SESSION, NAME, Gio.BusNameOwnerFlags.NONE, bus_acquired,
                     lambda *_: print("ready", flush=True), lambda *_: loop.quit())
    loop = GLib.MainLoop()
    loop.run()


def click(record_path, label):
    with open(record_path) as f:
        item = json.loads(f.read().splitlines()[-1])
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)

    def call(path, iface, method, args, reply=None):
        return bus.call_sync(item["bus"], path, iface, method, args, reply and GLib.VariantType(reply),
                             Gio.DBusCallFlags.NONE, 5000, None).unpack()

    (menu,) = call(item["path"], "org.freedesktop.DBus.Properties", "Get",
                   GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", "Menu")), "(v)")
    _, layout = call(menu, "com.canonical.dbusmenu", "GetLayout", GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))")

    def entries(node):
        ident, props, children = node
        yield ident, props.get("label", "").replace("_", "")
        for child in children:
            yield from entries(child)

    found = [i for i, text in entries(layout) if text == label]
    if not found:
        sys.exit(f"no menu entry {label!r} in {[text for _, text in entries(layout)]}")
    call(menu, "com.canonical.dbusmenu", "Event", GLib.Variant("(isvu)", (found[0], "clicked", GLib.Variant("i", 0), 0)))


if __name__ == "__main__":
    if sys.argv[1] == "click":
        click(sys.argv[2], sys.argv[3])
    else:
        serve(sys.argv[1])
