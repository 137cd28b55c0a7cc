// Package integrations holds the adapters that tell the outside world what the log says: the
// delivery core every integration sends through (delivery/) and the destinations (email/). They
// are a second kind of consumer of the log beside the read models: a read model answers questions
// inside motcua; an integration acts on a receiver outside it, once per event, and must survive the
// receiver's outages without losing or repeating anything (docs/integrations.md).
package integrations
