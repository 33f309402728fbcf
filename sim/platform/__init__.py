"""The platform side: recommender, commerce (shop and settle), timeline, incentives."""
