"""memoryhole.evidence"""
