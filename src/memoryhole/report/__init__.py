"""memoryhole.report"""
