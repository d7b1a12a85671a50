"""memoryhole.schedule"""
