"""The record of background job runs (Huey's signals into `job_runs`), the admins' page of
failed jobs with its "Relancer" button, and the daily pruning of the runs that went well."""
