"""Public map pages: a Folium map of any unit at any level of any boundary set."""
