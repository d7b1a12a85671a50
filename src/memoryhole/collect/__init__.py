"""memoryhole.collect"""
