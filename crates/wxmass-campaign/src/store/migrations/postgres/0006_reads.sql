-- The series of reads the server pulls from datacube.
CREATE TABLE wxmass_read_points (
    campaign TEXT NOT NULL, article BIGINT NOT NULL, date TEXT NOT NULL, title TEXT NOT NULL,
    delivered BIGINT NOT NULL, readers BIGINT NOT NULL, reads BIGINT NOT NULL,
    sharers BIGINT NOT NULL, shares BIGINT NOT NULL, favouriters BIGINT NOT NULL,
    PRIMARY KEY (campaign, article, date));
CREATE TABLE wxmass_read_pulls (campaign TEXT PRIMARY KEY, pulled_on TEXT NOT NULL, at BIGINT NOT NULL);
