//! The application core against a real `mega-testserver` on 127.0.0.1: one test binary, topic
//! modules.

mod watches;
