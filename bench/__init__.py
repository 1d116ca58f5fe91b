"""Side-by-side benchmark of agenthost against LangGraph's own server (see README.md)."""
