"""Infrastructure every Linli app uses: no domain logic, no imports of the domain apps."""
