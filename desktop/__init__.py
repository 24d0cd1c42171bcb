"""Reverie's desktop app (Qt): windows, views, item models and the job bridge to core.

- `app.run_app` — start-up and shut-down (called by `launcher.main`).
- `main_window.MainWindow` — the timeline beside the chat; import with progress.
- `jobs.JobRunner` — the one way UI work reaches the core facade off the main thread.
- `operations` — the work itself, as functions of the facade.
- `timeline_model.TimelineModel` — the lazily fetching day/item tree.
- `chat_view.ChatPanel` — the streamed chat with its "Memories used".
"""
