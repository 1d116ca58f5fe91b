"""The run engine: what a worker does with a run, from claim to archive.

One Celery task (``apps.runs.tasks``) hands a run id to ``runner.run_execute``, which
claims the run under a lease (``lease``), runs the graph in an event loop
(``executor``) with a durable checkpointer (``checkpointer``), translates LangGraph's
stream chunks into protocol events (``translate``, ``serde``) and appends them to the
run's Redis stream in batches (``publisher``). A watcher turns a cancel request into
the cancellation of the graph's task (``cancel``); ``rollback`` removes a cancelled
run's checkpoints. When the graph stops, the outcome is written to the database, the
terminal ``end`` event to the stream, the stream is copied to PostgreSQL
(``archive``), a webhook is sent if the run asked for one (``webhook``) and the
thread's next queued run is handed to the workers (``dispatch``). A reaper in every
worker process retries or ends runs whose worker died (``reaper``).
"""
