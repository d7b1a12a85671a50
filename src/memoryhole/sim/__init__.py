"""memoryhole.sim"""
