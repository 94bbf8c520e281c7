"""After the booking (issue 16): confirmations, reminders and cancellations, through a transactional outbox.

`compose` words the messages of a booking change from the domain's responses, `repository` stores and
claims them (in the booking's own unit of work), `worker` sends what is due (`clinic worker`), `email` and
`calendar` build the e-mail and its .ics.
"""
