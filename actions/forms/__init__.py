"""What the chat forms share, so that a new form is a short class.

- ``base``: :class:`ReaskingFormValidationAction`, the loop every ``validate_<form>`` runs
  (re-asking, stop, asking for a person, questions in between), the action that ends every
  form, and :class:`AskText` for a form's questions;
- ``readers``: pure functions from what the citizen wrote to slot values (names, contacts,
  references, yes/no, "den første");
- ``details``: name and contact, as the booking, sign-up and callback forms collect them;
- ``lookup``: :class:`LookupForm`, a reference plus the contact it was made with;
- ``confirm``: the summary a citizen checks and the confirm-then-write step.

A new form subclasses the base (and the mixins it needs), lists its slots in domain.yml and
writes one ``extract_<slot>`` per slot. Nothing is re-exported here: import from the module
that defines a name.
"""
