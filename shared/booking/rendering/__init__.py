"""What people read: messages (rendering/messages.py, from the templates in booking/templates), how times and
money read (times.py), invoices and credit notes as HTML and PDF (invoices.py, on the PDF engine pdf.py)."""
