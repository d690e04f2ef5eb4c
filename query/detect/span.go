package detect

import "time"

// spanText prints a time span compactly: the date once, then times.
func spanText(start, end time.Time) string {
	s := start.Format("2006-01-02 15:04:05")
	if end.YearDay() == start.YearDay() && end.Year() == start.Year() {
		return s + " - " + end.Format("15:04:05")
	}
	return s + " - " + end.Format("2006-01-02 15:04:05")
}
