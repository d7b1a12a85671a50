"""memoryhole.web"""
