import IncidentCore
print("bench placeholder")
