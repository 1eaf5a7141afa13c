//! The model as an [`Evaluator`]: candidates are encoded by patching the failed configuration's row.

use medic_core::SparkConf;
use medic_model::{JobScorer, Prediction, Predictor, RetryContext};

use crate::error::Error;
use crate::optimize::Evaluator;
use crate::space::{Grid, Point};

/// The two cells one value of one setting occupies in a row.
type Cells = [(usize, f32); 2];

/// Scores grid points of one failed job with the model.
pub struct ModelEvaluator {
    scorer: JobScorer,
    base: Vec<f32>,
    /// Per dimension, per value: its cells. Every dimension of the grid is a model input (the recommender keeps
    /// the others out of the search).
    cells: Vec<Vec<Cells>>,
}

impl ModelEvaluator {
    /// The evaluator of `grid`'s points for the job of `context` that failed with `original`. Refuses a grid with
    /// a setting the model has no input for: the model would answer the same whatever its value.
    pub fn new(
        predictor: &Predictor,
        context: &RetryContext,
        original: &SparkConf,
        grid: &Grid,
    ) -> Result<Self, Error> {
        let scorer = predictor.for_job(context)?;
        let base = scorer.encode(original);
        let cells = grid
            .dimensions
            .iter()
            .map(|dimension| {
                dimension
                    .texts
                    .iter()
                    .map(|text| {
                        scorer
                            .spec()
                            .encode_setting(&dimension.key, Some(text))
                            .ok_or_else(|| {
                                Error::InvalidRequest(format!(
                                    "the model has no input for `{}`",
                                    dimension.key
                                ))
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ModelEvaluator {
            scorer,
            base,
            cells,
        })
    }

    /// The model's answer for the failed configuration itself.
    pub fn original(&self) -> Result<Prediction, Error> {
        let mut predictions = self.scorer.score(self.base.clone())?;
        predictions
            .pop()
            .ok_or_else(|| Error::InvalidRequest("the model gave no prediction".to_owned()))
    }
}

impl Evaluator for ModelEvaluator {
    fn evaluate(&mut self, points: &[Point]) -> Result<Vec<Prediction>, Error> {
        let width = self.base.len();
        let mut rows = Vec::with_capacity(points.len() * width);
        for point in points {
            let start = rows.len();
            rows.extend_from_slice(&self.base);
            let row = &mut rows[start..];
            for (dimension, &level) in self.cells.iter().zip(point) {
                if let Some(cells) = dimension.get(usize::from(level)) {
                    for &(column, value) in cells {
                        if let Some(cell) = row.get_mut(column) {
                            *cell = value;
                        }
                    }
                }
            }
        }
        Ok(self.scorer.score(rows)?)
    }
}
