"""memoryhole.analysis"""
