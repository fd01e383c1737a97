"""Reading uploaded spreadsheets safely, and keeping an upload between its preview and its confirmation."""
