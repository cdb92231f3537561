"""The restitution archive of a client: its ZIP writer (`zipwriter`), what goes in it
(`contents`), its manifest and index (`manifest`), its LISEZMOI (`readme`), how it is
assembled and sealed (`assembly`), the archived restitutions (`records`) and the expiring
links that hand it to the client's contact (`links`). `app.archive.workflow` runs them."""
