package calendar

import "math"

// The Vietnamese lunar calendar (âm lịch), computed with Hồ Ngọc Đức's published method
// ("Thuật toán tính âm lịch", https://www.informatik.uni-leipzig.de/~duc/amlich/calrules.html),
// written here from its description:
//   - a month starts on the civil day of the astronomical new moon, in Vietnam's time zone;
//   - month 11 is the month containing the winter solstice;
//   - when 13 new moons separate two months 11, the leap month is the first month after month 11
//     that contains no major solar term (trung khí), and repeats the number of the month before it.
//
// Time zone: Vietnam's calendar has been computed for UTC+7 since 1968 (the North's Council of
// Government decree of 08/08/1967; the whole country after 1975); before that it followed the
// Chinese calendar's UTC+8. That is why Vietnamese dates differ from Chinese tables in some years:
// Tết 1985 (21/01 here, 20/02 in China), 2007 (17/02 against 18/02) and 2030 (02/02 against 03/02).
//
// Astronomy: new moons use Jean Meeus' full series ("Astronomical Algorithms", 2nd ed., ch. 49)
// and the Espenak–Meeus polynomials for ΔT; the sun's apparent longitude uses Meeus ch. 25 (low
// precision). Hồ Ngọc Đức's short new-moon series places a handful of new moons that fall within
// minutes of midnight on the other day (Tết 2175 and 2199, for example); with the full series,
// Tết and Hùng Kings' day agree with his published 1900–2199 table in every year but 1916 and 1925
// (see lunar_test.go), and 3705 of its 3711 month starts agree.

// julianDayUnixEpoch is the Julian day number of 1970-01-01, the origin of civilDay.
const julianDayUnixEpoch = 2440588

// meanSynodicMonth is the average number of days from one new moon to the next.
const meanSynodicMonth = 29.530588853

// newMoonEpoch is the Julian date of new moon number 0, that of 1900-01-01.
const newMoonEpoch = 2415021.076998695

// lunarTimeZoneHours returns the offset from UTC, in hours, in which lunar year's calendar is computed.
func lunarTimeZoneHours(lunarYear int) float64 {
	if lunarYear < 1968 {
		return 8
	}
	return 7
}

// lunarToSolarJulianDay returns the Julian day number of lunar day/month/year (leap selects the
// leap month of that number) in the Vietnamese calendar, and false if the year has no such leap
// month.
func lunarToSolarJulianDay(day, month, year int, leap bool) (int, bool) {
	return lunarToSolarJulianDayAt(day, month, year, leap, lunarTimeZoneHours(year))
}

// lunarToSolarJulianDayAt is lunarToSolarJulianDay for a lunar calendar computed at UTC+tz.
func lunarToSolarJulianDayAt(day, month, year int, leap bool, tz float64) (int, bool) {
	var a11, b11 int
	if month < 11 {
		a11 = lunarMonth11(year-1, tz)
		b11 = lunarMonth11(year, tz)
	} else {
		a11 = lunarMonth11(year, tz)
		b11 = lunarMonth11(year+1, tz)
	}
	k := int(math.Floor(0.5 + (float64(a11)-newMoonEpoch)/meanSynodicMonth))
	offset := month - 11
	if offset < 0 {
		offset += 12
	}
	if b11-a11 > 365 { // a 13-month year: months from the leap one on shift by one new moon
		leapOffset := leapMonthOffset(a11, tz)
		leapMonth := leapOffset - 2
		if leapMonth < 0 {
			leapMonth += 12
		}
		if leap && month != leapMonth {
			return 0, false
		}
		if leap || offset >= leapOffset {
			offset++
		}
	} else if leap {
		return 0, false
	}
	return newMoonDay(k+offset, tz) + day - 1, true
}

// lunarMonth11 returns the Julian day on which lunar month 11 of the given year starts: the new
// moon on or before the winter solstice.
func lunarMonth11(year int, tz float64) int {
	dec31 := julianDayFromDate(year, 12, 31)
	k := int(math.Floor(float64(dec31-2415021) / meanSynodicMonth))
	start := newMoonDay(k, tz)
	if majorSolarTerm(start, tz) >= 9 { // the sun is already past 270°: this month starts after the solstice
		start = newMoonDay(k-1, tz)
	}
	return start
}

// leapMonthOffset returns, for a 13-month year whose month 11 starts on a11, the index (counted in
// new moons after a11) of the leap month: the first month with no major solar term.
func leapMonthOffset(a11 int, tz float64) int {
	k := int(math.Floor((float64(a11)-newMoonEpoch)/meanSynodicMonth + 0.5))
	i := 1
	term := majorSolarTerm(newMoonDay(k+i, tz), tz)
	for {
		previous := term
		i++
		term = majorSolarTerm(newMoonDay(k+i, tz), tz)
		if term == previous || i >= 14 {
			return i - 1
		}
	}
}

// newMoonDay returns the Julian day number of the civil day (at UTC+tz) of new moon number k.
func newMoonDay(k int, tz float64) int {
	return int(math.Floor(newMoon(k) + 0.5 + tz/24))
}

// majorSolarTerm returns which 30° sector (0–11, 0 = from the March equinox) the sun is in at the
// start of the given civil day (at UTC+tz).
func majorSolarTerm(julianDay int, tz float64) int {
	return int(math.Floor(sunLongitude(float64(julianDay)-0.5-tz/24) / math.Pi * 6))
}

// newMoon returns the Julian date (UT) of new moon number k, counted from that of 1900-01-01
// (Meeus ch. 49: mean phase, periodic terms, planetary arguments, then TT − UT).
func newMoon(k int) float64 {
	const dr = math.Pi / 180
	n := float64(k - 1237) // Meeus counts from the new moon of 2000-01-06
	t := n / 1236.85
	t2, t3, t4 := t*t, t*t*t, t*t*t*t
	jde := 2451550.09766 + 29.530588861*n + 0.00015437*t2 - 0.000000150*t3 + 0.00000000073*t4
	e := 1 - 0.002516*t - 0.0000074*t2 // eccentricity of Earth's orbit
	sunAnomaly := (2.5534 + 29.10535670*n - 0.0000014*t2 - 0.00000011*t3) * dr
	moonAnomaly := (201.5643 + 385.81693528*n + 0.0107582*t2 + 0.00001238*t3 - 0.000000058*t4) * dr
	moonLatitude := (160.7108 + 390.67050284*n - 0.0016118*t2 - 0.00000227*t3 + 0.000000011*t4) * dr
	ascendingNode := (124.7746 - 1.56375588*n + 0.0020672*t2 + 0.00000215*t3) * dr
	m, mp, f := sunAnomaly, moonAnomaly, moonLatitude
	sin := math.Sin
	jde += -0.40720*sin(mp) + 0.17241*e*sin(m) + 0.01608*sin(2*mp) + 0.01039*sin(2*f) +
		0.00739*e*sin(mp-m) - 0.00514*e*sin(mp+m) + 0.00208*e*e*sin(2*m) - 0.00111*sin(mp-2*f) -
		0.00057*sin(mp+2*f) + 0.00056*e*sin(2*mp+m) - 0.00042*sin(3*mp) + 0.00042*e*sin(m+2*f) +
		0.00038*e*sin(m-2*f) - 0.00024*e*sin(2*mp-m) - 0.00017*sin(ascendingNode) - 0.00007*sin(mp+2*m) +
		0.00004*sin(2*mp-2*f) + 0.00004*sin(3*m) + 0.00003*sin(mp+m-2*f) + 0.00003*sin(2*mp+2*f) -
		0.00003*sin(mp+m+2*f) + 0.00003*sin(mp-m+2*f) - 0.00002*sin(mp-m-2*f) - 0.00002*sin(3*mp+m) +
		0.00002*sin(4*mp)
	for _, p := range planetaryArguments {
		jde += p.amplitude * sin((p.base+p.perLunation*n+p.perT2*t2)*dr)
	}
	year := 2000 + (jde-2451545)/365.25
	return jde - deltaTSeconds(year)/86400
}

// planetaryArguments are the additional corrections A1–A14 of Meeus ch. 49 (degrees, days).
var planetaryArguments = []struct{ amplitude, base, perLunation, perT2 float64 }{
	{0.000325, 299.77, 0.107408, -0.009173}, {0.000165, 251.88, 0.016321, 0},
	{0.000164, 251.83, 26.651886, 0}, {0.000126, 349.42, 36.412478, 0},
	{0.000110, 84.66, 18.206239, 0}, {0.000062, 141.74, 53.303771, 0},
	{0.000060, 207.14, 2.453732, 0}, {0.000056, 154.84, 7.306860, 0},
	{0.000047, 34.52, 27.261239, 0}, {0.000042, 207.19, 0.121824, 0},
	{0.000040, 291.34, 1.844379, 0}, {0.000037, 161.72, 24.198154, 0},
	{0.000035, 239.56, 25.513099, 0}, {0.000023, 331.55, 3.592518, 0},
}

// deltaTSeconds returns TT − UT in seconds for a decimal year (Espenak and Meeus' polynomials for
// 1900–2150, Morrison and Stephenson's parabola after).
func deltaTSeconds(year float64) float64 {
	switch {
	case year < 1920:
		t := year - 1900
		return -2.79 + 1.494119*t - 0.0598939*t*t + 0.0061966*t*t*t - 0.000197*t*t*t*t
	case year < 1941:
		t := year - 1920
		return 21.20 + 0.84493*t - 0.076100*t*t + 0.0020936*t*t*t
	case year < 1961:
		t := year - 1950
		return 29.07 + 0.407*t - t*t/233 + t*t*t/2547
	case year < 1986:
		t := year - 1975
		return 45.45 + 1.067*t - t*t/260 - t*t*t/718
	case year < 2005:
		t := year - 2000
		return 63.86 + 0.3345*t - 0.060374*t*t + 0.0017275*t*t*t + 0.000651814*t*t*t*t + 0.00002373599*t*t*t*t*t
	case year < 2050:
		t := year - 2000
		return 62.92 + 0.32217*t + 0.005589*t*t
	case year < 2150:
		u := (year - 1820) / 100
		return -20 + 32*u*u - 0.5628*(2150-year)
	default:
		u := (year - 1820) / 100
		return -20 + 32*u*u
	}
}

// sunLongitude returns the sun's apparent longitude in radians, normalised to [0, 2π), at the given
// Julian date (Meeus ch. 25, low precision, with nutation and aberration).
func sunLongitude(julianDate float64) float64 {
	const dr = math.Pi / 180
	t := (julianDate - 2451545.0) / 36525
	t2 := t * t
	meanAnomaly := 357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2
	meanLongitude := 280.46645 + 36000.76983*t + 0.0003032*t2
	centre := (1.914600-0.004817*t-0.000014*t2)*math.Sin(dr*meanAnomaly) +
		(0.019993-0.000101*t)*math.Sin(dr*2*meanAnomaly) + 0.000290*math.Sin(dr*3*meanAnomaly)
	ascendingNode := 125.04 - 1934.136*t
	longitude := (meanLongitude + centre - 0.00569 - 0.00478*math.Sin(ascendingNode*dr)) * dr
	return longitude - 2*math.Pi*math.Floor(longitude/(2*math.Pi))
}

// julianDayFromDate returns the Julian day number of a Gregorian date.
func julianDayFromDate(year, month, day int) int {
	a := (14 - month) / 12
	y := year + 4800 - a
	m := month + 12*a - 3
	return day + (153*m+2)/5 + 365*y + y/4 - y/100 + y/400 - 32045
}
