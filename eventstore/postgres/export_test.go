package postgres

// PendingSQL is the statement Pending runs, for the test of its plans.
const PendingSQL = pendingSQL

// CountUpToSQL is the statement CountAfterUpTo runs, for the test of its plans.
const CountUpToSQL = countUpToSQL
