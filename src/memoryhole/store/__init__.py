"""memoryhole.store"""
