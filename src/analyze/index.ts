// The models of src/analyze: what the CLI, the server and the report call.
export { checkDataset, groupPoints, type Dataset, type ParamInfo, type Row } from './dataset.ts';
export { fit, predict, FORMS, type FitByResult, type FitOptions, type FitResult, type FormName, type Prediction, type Term } from './fit.ts';
export { impact, type Factor, type ImpactOptions, type ImpactResult } from './impact.ts';
export { recommend, paretoFront, type Candidate, type Constraint, type RecommendOptions, type RecommendResult } from './recommend.ts';
export { compare, parseRule, type Change, type CompareOptions, type CompareResult, type CompareRow, type CompareSet, type Rule } from './compare.ts';
