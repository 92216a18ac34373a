ALTER TABLE contacts RESET (fillfactor);
