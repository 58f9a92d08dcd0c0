"""todo_adapters: what connects the todo core to the world (storage, HTTP, configuration, command line)."""
