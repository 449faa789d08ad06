//! Range checks shared by the AIS-derived kinds ([`SafetyMessage`](crate::SafetyMessage),
//! [`StationReport`](crate::StationReport), [`MetHydroObservation`](crate::MetHydroObservation)).

use crate::rejection::{RejectClass, Rejection, out_of_range};

/// Refuses an MMSI outside `1..=999_999_999`.
///
/// Stations are identified by MMSIs too, and not all of them are nine
/// *significant* digits: a coast (base) station's is `00MIDxxxx`, so as a
/// number it is below 10⁸ (Dutch coast stations are `002442xxx`). Safety
/// broadcasts, met-hydro reports and base-station reports mostly come from
/// such stations, so these kinds accept every identity the 30-bit AIS field
/// can carry as nine decimal digits, except 0 (no identity).
pub(crate) fn check_identity(what: &str, mmsi: u32) -> Result<(), Rejection> {
    if !(1..=999_999_999).contains(&mmsi) {
        return Err(Rejection::new(
            RejectClass::MmsiInvalid,
            format!("{what} {mmsi} is not a nine-digit identity"),
        ));
    }
    Ok(())
}

/// An optional position: both coordinates or neither, each in range.
pub(crate) fn check_optional_position(lat: Option<f64>, lon: Option<f64>) -> Result<(), Rejection> {
    match (lat, lon) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(Rejection::new(
                    RejectClass::LatOutOfRange,
                    format!("lat {lat} is outside -90..=90"),
                ));
            }
            if !(-180.0..=180.0).contains(&lon) {
                return Err(Rejection::new(
                    RejectClass::LonOutOfRange,
                    format!("lon {lon} is outside -180..=180"),
                ));
            }
            Ok(())
        }
        (None, None) => Ok(()),
        _ => Err(out_of_range("lat and lon come together".to_owned())),
    }
}

/// Each `(name, value, min, max)` with a value must lie in `min..=max` (NaN never does).
pub(crate) fn check_ranges(ranges: &[(&str, Option<f64>, f64, f64)]) -> Result<(), Rejection> {
    for &(name, value, min, max) in ranges {
        if let Some(v) = value
            && !(min..=max).contains(&v)
        {
            return Err(out_of_range(format!("{name} {v} is outside {min}..={max}")));
        }
    }
    Ok(())
}

/// Refuses text longer than `max` characters.
pub(crate) fn check_len(name: &str, value: Option<&str>, max: usize) -> Result<(), Rejection> {
    if let Some(v) = value
        && v.chars().count() > max
    {
        return Err(out_of_range(format!("{name} is longer than {max} characters")));
    }
    Ok(())
}
