"""edgeconnect_lib"""
