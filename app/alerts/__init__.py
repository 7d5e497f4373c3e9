"""Patient Notification Services: email alerts about new studies matching a patient's search."""
