export { DatasetError, datasetBatch, loadSignsDataset, type SignsDataset } from './signs';
