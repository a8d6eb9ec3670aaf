-- The series of reads the server pulls from datacube.
CREATE TABLE read_points (
    campaign TEXT NOT NULL, article INTEGER NOT NULL, date TEXT NOT NULL, title TEXT NOT NULL,
    delivered INTEGER NOT NULL, readers INTEGER NOT NULL, reads INTEGER NOT NULL,
    sharers INTEGER NOT NULL, shares INTEGER NOT NULL, favouriters INTEGER NOT NULL,
    PRIMARY KEY (campaign, article, date));
CREATE TABLE read_pulls (campaign TEXT PRIMARY KEY, pulled_on TEXT NOT NULL, at INTEGER NOT NULL);
