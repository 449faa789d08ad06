-- Run on every pooled connection when it opens: a read-only session whose
-- statements cannot run past the configured timeout ($TIMEOUT_MS is
-- substituted by the server, an integer it formats itself).
SET default_transaction_read_only = on;
SET statement_timeout = $TIMEOUT_MS;
SET application_name = 'porttrack-serve';
