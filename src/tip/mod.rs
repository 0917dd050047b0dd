//! The Kaspersky TIP publications API client.
