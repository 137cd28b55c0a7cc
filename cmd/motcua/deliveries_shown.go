package main

import mhttp "github.com/motcua/motcua/http"

// deliveriesShown is what serve shows of the outbox — to admins (their page and API) and on the
// public lookup (the notifications sent) — with the destinations configured now. With
// notifications off, what was sent while they were on still shows.
func deliveriesShown(deployment *deployment, o *outbox) *mhttp.DeliveriesConfig {
	shown := &mhttp.DeliveriesConfig{Dialect: deployment.Dialect()}
	if o != nil {
		for _, d := range o.dispatcher.Destinations {
			shown.Destinations = append(shown.Destinations, d.Name())
		}
	}
	return shown
}
