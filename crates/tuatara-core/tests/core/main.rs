//! The application core against a real `mega-testserver`: one binary, topic modules.

mod links;
